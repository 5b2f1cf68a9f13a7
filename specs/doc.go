// Package specs turns a Swagger 2.0, OpenAPI 3.0 or OpenAPI 3.1 document
// (JSON or YAML) into compiled operations: each with its method, path
// template, parameters and request body schemas compiled once, ready to
// validate requests without further parsing.
//
// Load does all the work that can fail at submission time: decoding, version
// detection, Swagger 2.0 conversion, $ref checks, schema compilation. What it
// tolerates (examples that do not match their schema, undeclared path
// parameters, refs missing their '#') it reports as warnings. What is
// ambiguous (duplicate keys, invalid UTF-8, dot segments in paths) it
// refuses, and what a document may cost is bounded in proportion to its
// size (YAML aliases, Options.MaxOperations, Inline). A *Document is
// immutable after Load and safe for concurrent use.
package specs
