package openenvgrpc

import (
	"errors"
	"fmt"
	"strings"
	"time"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of every reason the contract defines.
const Domain = "openenv.v1"

const reasonPrefix = "ERROR_REASON_"

// Error is a failure the server reported: its gRPC code and message and,
// from the google.rpc.ErrorInfo detail, the stable reason and metadata
// (see errors.proto). A failed unary call (its grpc-status-details-bin
// trailer) and an in-band StepStream error give the same Error for the
// same fault, so code matches reasons one way on both paths:
//
//	var e *openenvgrpc.Error
//	if errors.As(err, &e) && e.Reason() == "EPISODE_ENDED" { ... }
//
// Match on Reason, never on the message (English, and it may change). An
// Error is also a gRPC status error: status.Code(err) and status.FromError
// work on it.
type Error struct {
	status   *statuspb.Status
	reason   string
	domain   string
	metadata map[string]string
	retry    time.Duration
	hasRetry bool
}

// FromStatus reads a google.rpc.Status, such as StepStreamResponse.error,
// into an Error. It returns nil for nil or an OK status.
func FromStatus(st *statuspb.Status) *Error {
	if st == nil || codes.Code(st.GetCode()) == codes.OK {
		return nil
	}
	e := &Error{status: st, metadata: map[string]string{}}
	for _, detail := range status.FromProto(st).Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			if e.domain == "" || d.GetDomain() == Domain { // the contract's own wins
				e.reason, e.domain = d.GetReason(), d.GetDomain()
				e.metadata = make(map[string]string, len(d.GetMetadata()))
				for k, v := range d.GetMetadata() {
					e.metadata[k] = v
				}
			}
		case *errdetails.RetryInfo:
			e.retry, e.hasRetry = d.GetRetryDelay().AsDuration(), true
		}
	}
	return e
}

// FromError reads any error of a gRPC call into an Error: an Error already
// in err's chain as it is, else err's gRPC status (a unary call's status
// and its grpc-status-details-bin trailer, or a context error's code). It
// returns nil, false for nil and for errors that carry no gRPC status.
func FromError(err error) (*Error, bool) {
	if err == nil {
		return nil, false
	}
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	// The status itself, not status.FromError's, which prefixes the
	// message with any text that wraps it.
	var carrier interface{ GRPCStatus() *status.Status }
	var st *status.Status
	if errors.As(err, &carrier) {
		st = carrier.GRPCStatus()
	} else if st = status.FromContextError(err); st.Code() == codes.Unknown {
		return nil, false
	}
	if e = FromStatus(st.Proto()); e == nil {
		return nil, false // an OK status is no failure
	}
	return e, true
}

// ReasonOf is the ErrorInfo reason of err ("" when it carries none, or is
// not a gRPC error): the one-line way to branch on a failure.
func ReasonOf(err error) string {
	if e, ok := FromError(err); ok {
		return e.Reason()
	}
	return ""
}

// ReasonName is the reason string a server sends for r: its enum name
// without the ERROR_REASON_ prefix (SESSION_NOT_FOUND, ...).
func ReasonName(r openenvv1.ErrorReason) string {
	return strings.TrimPrefix(r.String(), reasonPrefix)
}

// Error formats the failure as "openenv: REASON (Code): message".
func (e *Error) Error() string {
	if e.reason == "" {
		return fmt.Sprintf("openenv: %s: %s", e.Code(), e.Message())
	}
	return fmt.Sprintf("openenv: %s (%s): %s", e.reason, e.Code(), e.Message())
}

// Code is the gRPC status code.
func (e *Error) Code() codes.Code { return codes.Code(e.status.GetCode()) }

// Message is the server's message, for people.
func (e *Error) Message() string { return e.status.GetMessage() }

// Reason is the ErrorInfo reason, such as "SESSION_NOT_FOUND", or "" when
// the status carried no ErrorInfo (a client-side deadline, for one).
func (e *Error) Reason() string { return e.reason }

// ErrorReason is Reason as the contract's enum, ERROR_REASON_UNSPECIFIED
// for no reason and for reasons newer than this package (treat those by
// their Code).
func (e *Error) ErrorReason() openenvv1.ErrorReason {
	if e.domain != Domain {
		return openenvv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return openenvv1.ErrorReason(openenvv1.ErrorReason_value[reasonPrefix+e.reason])
}

// Domain is the ErrorInfo domain ("openenv.v1" for the contract's reasons).
func (e *Error) Domain() string { return e.domain }

// Metadata is the ErrorInfo metadata (for example "session_id" or
// "step_count"); empty, never nil, without ErrorInfo. Read it, do not
// change it.
func (e *Error) Metadata() map[string]string { return e.metadata }

// RetryDelay is the RetryInfo delay, when the server sent one (session
// limit, draining).
func (e *Error) RetryDelay() (time.Duration, bool) { return e.retry, e.hasRetry }

// Proto is the google.rpc.Status the Error was read from.
func (e *Error) Proto() *statuspb.Status { return e.status }

// GRPCStatus makes an Error a gRPC status error for status.FromError and
// status.Code.
func (e *Error) GRPCStatus() *status.Status { return status.FromProto(e.status) }
