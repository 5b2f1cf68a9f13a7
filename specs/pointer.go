package specs

import "github.com/dynapi/dynapi/internal/jsonptr"

// ptr joins tokens into a JSON pointer, escaping each token.
var ptr = jsonptr.Append
