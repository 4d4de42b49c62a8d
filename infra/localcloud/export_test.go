package localcloud

// PoolHealth reports, for tests, how many instances a function's pool holds idle and how many
// of the function's instances are alive (not exited, not killed).
func PoolHealth(c *Cloud, function string) (idle, alive int) {
	fn := c.functions[function]
	fn.mu.Lock()
	defer fn.mu.Unlock()
	for inst := range fn.insts {
		if !inst.dead() {
			alive++
		}
	}
	return len(fn.pool), alive
}
