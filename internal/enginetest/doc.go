// Package enginetest runs a real dynapi instance for tests, the way the
// standard library's httptest runs a server: New opens one on a fresh store
// in a temporary directory with a fake clock, and every request names who
// sends it (Admin, As a user, Anonymous, or a token), so no scenario is
// silently the super admin's.
//
// Scenario tables say what a request must answer (status, problem code)
// and which audit entries it must write; Run runs them as subtests. Golden
// compares a large answer with a file in testdata, rewritten by -update.
//
// Fixtures (CreateEntity, BankWithAccounts, Pay, ...) set up over the API
// what scenarios in several packages start from, each as the super admin
// or as the holder of a token. What only a real socket or a wall-clock
// timer decides is waited for with WaitUntil, never slept for.
package enginetest
