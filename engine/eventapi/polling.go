package eventapi

import (
	"context"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// pollBody is OBEventPolling1.
type pollBody struct {
	MaxEvents *int `json:"maxEvents"`
	// ReturnImmediately is read and ignored: the engine always answers at
	// once, with what is waiting (no long polling).
	ReturnImmediately bool                     `json:"returnImmediately"`
	Ack               []string                 `json:"ack"`
	SetErrs           map[string]events.SetErr `json:"setErrs"`
}

// poll is aggregated polling (POST /events): it acknowledges the SETs the
// TPP names in ack and setErrs, then answers up to maxEvents of its SETs
// not yet acknowledged (20 when not given, at most 100; 0 only
// acknowledges) and whether more are waiting. It always answers
// immediately, whatever returnImmediately says.
func (a action) poll(ctx context.Context, call *engine.Call, tpp *caller) (*engine.Reply, error) {
	in, err := readBody[pollBody](call)
	if err != nil {
		return nil, err
	}
	got, err := a.b.Events.Poll(ctx, tpp.consumerID, events.Poll{MaxEvents: in.MaxEvents, Ack: in.Ack, SetErrs: in.SetErrs})
	if err != nil {
		return nil, err
	}
	return answer(http.StatusOK, struct {
		MoreAvailable bool              `json:"moreAvailable"`
		Sets          map[string]string `json:"sets"`
	}{got.MoreAvailable, got.Sets})
}
