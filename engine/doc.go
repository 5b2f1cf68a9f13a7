// Package engine is the kernel of dynapi: the error model every layer
// returns, and the contracts (Store) that plugins implement. It imports no
// HTTP framework, script engine or storage library, so every other package
// can depend on it without pulling those in.
package engine
