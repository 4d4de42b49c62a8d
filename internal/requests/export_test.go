package requests

// ValidateFileInput lets the external tests (the fuzz test above all) check FileInput's rules
// on their own, without the rate limits and the store in front of them.
func ValidateFileInput(in *FileInput, signedIn bool) error { return in.validate(signedIn) }
