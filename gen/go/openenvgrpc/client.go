package openenvgrpc

import (
	"context"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// ProtocolVersion is the version of the contract this package speaks,
// "MAJOR.MINOR". A server refuses a client of another MAJOR.
const ProtocolVersion = "1.1"

// Request headers of the contract (docs/protocol.md).
const (
	// ProtocolHeader carries ProtocolVersion on every call.
	ProtocolHeader = "openenv-protocol-version"
	// SessionHeader carries the session id of a unary call that names one,
	// so an L7 load balancer can route all of a session's calls to the
	// server that holds it.
	SessionHeader = "openenv-session-id"
)

// DefaultMaxMessageBytes is the largest message a Client sends and
// receives unless told otherwise: the Python server's default
// (--max-message-mb 64), where grpc-go's own default is 4 MiB.
const DefaultMaxMessageBytes = 64 << 20

// Client is an EnvService client with the contract's conventions built in
// (see DialOptions). Call the generated methods on it directly.
type Client struct {
	openenvv1.EnvServiceClient
	conn *grpc.ClientConn
}

// NewClient connects to target (host:port) in plaintext, as a local or
// in-cluster server is served; opts come after DialOptions, so
// grpc.WithTransportCredentials among them turns on TLS. Like
// grpc.NewClient, it does not wait for the server: the first call does.
func NewClient(target string, opts ...grpc.DialOption) (*Client, error) {
	all := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, DialOptions()...)
	conn, err := grpc.NewClient(target, append(all, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Client{EnvServiceClient: openenvv1.NewEnvServiceClient(conn), conn: conn}, nil
}

// Conn is the underlying connection (for health checks, say).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// DialOptions are the options NewClient dials with, for callers that make
// their own grpc.ClientConn: every call sends ProtocolHeader; unary calls
// that name a session send SessionHeader; failed unary calls return an
// *Error; message limits are DefaultMaxMessageBytes.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(unaryInterceptor),
		grpc.WithChainStreamInterceptor(streamInterceptor),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(DefaultMaxMessageBytes),
			grpc.MaxCallSendMsgSize(DefaultMaxMessageBytes),
		),
	}
}

// sessionNamer is every request message with a session_id field.
type sessionNamer interface{ GetSessionId() string }

func unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
) error {
	pairs := []string{ProtocolHeader, ProtocolVersion}
	if r, ok := req.(sessionNamer); ok && r.GetSessionId() != "" {
		pairs = append(pairs, SessionHeader, r.GetSessionId())
	}
	err := invoker(metadata.AppendToOutgoingContext(ctx, pairs...), method, req, reply, cc, opts...)
	if e, ok := FromError(err); ok {
		return e
	}
	return err
}

func streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
	streamer grpc.Streamer, opts ...grpc.CallOption,
) (grpc.ClientStream, error) {
	return streamer(metadata.AppendToOutgoingContext(ctx, ProtocolHeader, ProtocolVersion), desc, cc, method, opts...)
}
