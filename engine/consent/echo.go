package consent

import (
	"encoding/json"
	"fmt"

	"github.com/dynapi/dynapi/engine"
)

// echo renders c as the consent response of a profile with Echo (UK
// payment, funds confirmation and VRP consents): the consent's id, status
// and times, the members of Data the profile plays back as posted, and
// Risk when it plays that back too.
func (r *resource) echo(status int, c *Consent, self string) (*engine.Reply, error) {
	var req struct {
		Data map[string]json.RawMessage `json:"Data"`
		Risk json.RawMessage            `json:"Risk"`
	}
	if err := json.Unmarshal(c.Request, &req); err != nil {
		return nil, engine.Internal(fmt.Errorf("consent %s: its request: %w", c.ID, err))
	}
	data := map[string]any{"ConsentId": c.ID, "Status": r.profile.renderedStatus(c), "StatusUpdateDateTime": stamp(c.StatusAt),
		"CreationDateTime": stamp(c.CreatedAt)}
	if c.ExpiresAt != nil {
		data["ExpirationDateTime"] = stamp(*c.ExpiresAt)
	}
	if reasons := r.profile.reasons(c); reasons != nil {
		data["StatusReason"] = reasons
	}
	for _, member := range r.profile.Echo.Data {
		if v, ok := req.Data[member]; ok {
			data[member] = v
		}
	}
	out := map[string]any{"Data": data, "Links": links{Self: self}, "Meta": struct{}{}}
	if r.profile.Echo.Risk {
		out["Risk"] = json.RawMessage(`{}`)
		if req.Risk != nil {
			out["Risk"] = req.Risk
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: body}, nil
}
