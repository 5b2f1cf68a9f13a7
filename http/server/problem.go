package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/guard"
)

// MIMEProblemJSON is the media type of error responses (RFC 9457).
const MIMEProblemJSON = "application/problem+json"

// Problem is the body of every error response.
type Problem struct {
	Type          string             `json:"type"`
	Title         string             `json:"title"`
	Status        int                `json:"status"`
	Code          string             `json:"code"`
	Message       string             `json:"message"`
	Violations    []engine.Violation `json:"violations"`
	MissingRoles  []string           `json:"missing_roles,omitempty"`
	BankID        string             `json:"bank_id,omitempty"`
	CorrelationID string             `json:"correlation_id"`
}

// errorHandler renders any error a handler returns as problem+json.
// Internal errors are logged with the correlation id and their cause; the
// client sees neither the cause nor a stack.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	e, cid := s.refusal(c, err)
	return writeProblem(c, e, cid)
}

// renderRouteError answers err in the shape route's standard prescribes
// (a route whose document has a consent profile: endpoints.Route.Errors).
func (s *Server) renderRouteError(c *fiber.Ctx, r engine.ErrorRenderer, err error) error {
	e, cid := s.refusal(c, err)
	return render(c, r.RenderError(e, cid))
}

// refusal is err as the error to answer and the request's correlation id:
// a 401 gets its WWW-Authenticate challenge, a server error is logged.
func (s *Server) refusal(c *fiber.Ctx, err error) (*engine.Error, string) {
	e := toEngineError(err)
	cid := correlationID(c)
	if cid == "" {
		// Refused before any handler ran: fasthttp could not read the
		// request (a body over the limit, a timeout). What it calls a server
		// error there is the client's connection failing mid-request, not
		// a failure to log.
		cid = s.ids.set(c, unscanned)
		if e.Status >= 500 {
			e = engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "the request could not be read")
		}
	}
	// Set here, so a standard's own error shape (renderRouteError) carries
	// them too.
	for k, v := range e.Headers {
		c.Set(k, v)
	}
	if e.RetryAfter > 0 {
		setRetryAfter(c, e.RetryAfter)
	}
	if e.Status == http.StatusUnauthorized && len(c.Response().Header.Peek(fiber.HeaderWWWAuthenticate)) == 0 {
		c.Set(fiber.HeaderWWWAuthenticate, guard.Challenge)
	}
	if e.Status >= 500 {
		s.log.ErrorContext(c.UserContext(), "request failed", "correlation_id", cid, "method", c.Method(), "path", c.Path(),
			"client_addr", clientAddr(c), "error", err)
	}
	return e, cid
}

// toEngineError maps fiber's own errors (unknown route, body too large) to
// the engine's codes.
func toEngineError(err error) *engine.Error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case http.StatusRequestEntityTooLarge:
			return engine.NewError(fe.Code, engine.CodePayloadTooLarge, "the request body is larger than this server accepts")
		case http.StatusNotFound:
			return engine.NewError(fe.Code, engine.CodeNotFound, "no route matches this path")
		case http.StatusMethodNotAllowed:
			return engine.NewError(fe.Code, engine.CodeMethodNotAllowed, "the method is not allowed on this path")
		case http.StatusUnsupportedMediaType:
			return engine.NewError(fe.Code, engine.CodeUnsupportedMediaType, fe.Message)
		case http.StatusRequestHeaderFieldsTooLarge:
			return engine.NewError(fe.Code, engine.CodeHeaderTooLarge, "the request header is larger than this server accepts")
		case http.StatusRequestTimeout:
			return engine.NewError(fe.Code, engine.CodeRequestTimeout, "the request did not arrive in time")
		}
		if fe.Code < 500 {
			return engine.NewError(fe.Code, strings.ReplaceAll(strings.ToLower(http.StatusText(fe.Code)), " ", "_"), fe.Message)
		}
		return engine.Internal(err)
	}
	return engine.AsError(err)
}

func writeProblem(c *fiber.Ctx, e *engine.Error, cid string) error {
	violations := e.Violations
	if violations == nil {
		violations = []engine.Violation{}
	}
	body, err := json.Marshal(Problem{Type: "about:blank", Title: http.StatusText(e.Status), Status: e.Status,
		Code: e.Code, Message: e.Message, Violations: violations, MissingRoles: e.MissingRoles, BankID: e.BankID,
		CorrelationID: cid})
	if err != nil {
		body = []byte(`{"status":500,"code":"internal_error","message":"internal error"}`)
	}
	c.Status(e.Status)
	c.Set(fiber.HeaderContentType, MIMEProblemJSON)
	return c.Send(body)
}

// setRetryAfter sets the Retry-After header to d in whole seconds, rounded
// up.
func setRetryAfter(c *fiber.Ctx, d time.Duration) {
	c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
}
