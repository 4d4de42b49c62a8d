// Package benchfloor holds the floor functions of `make bench`: the smallest Lambdas that do
// what a portal function does, built by the same make rule, so a portal function's cold start
// and binary size can be read beside theirs. They are never in template.yaml.
package benchfloor
