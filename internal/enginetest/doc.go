// Package enginetest runs a real dynapi instance for tests, the way the
// standard library's httptest runs a server: New opens one on a fresh store
// in a temporary directory with a fake clock, and every request names who
// sends it (Admin, As a user, Anonymous, or a token), so no scenario is
// silently the super admin's.
//
// Scenario tables say what a request must answer (status, problem code)
// and which audit entries it must write; Run runs them as subtests. Golden
// compares a large answer with a file in testdata, rewritten by -update.
package enginetest
