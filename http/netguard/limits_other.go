//go:build !unix

package netguard

// descriptorLimit is unknown where there is no RLIMIT_NOFILE.
func descriptorLimit() int { return 0 }
