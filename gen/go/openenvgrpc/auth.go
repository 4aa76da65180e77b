package openenvgrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// AuthorizationHeader carries the token of WithToken on every call, as
// "Bearer TOKEN": the server's --tokens-file maps tokens to principals.
const AuthorizationHeader = "authorization"

// WithTLS is the dial option for a server started with --tls-cert: its
// certificate must chain to the CA in caFile (PEM) and name the host
// dialled. certFile and keyFile (PEM, both or neither) present a client
// certificate, for a server that asks for one (--tls-client-ca: mutual
// TLS). Pass it to NewClient, where it replaces the plaintext default.
func WithTLS(caFile, certFile, keyFile string) (grpc.DialOption, error) {
	if caFile == "" {
		return nil, errors.New("openenvgrpc: TLS needs a CA file")
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("openenvgrpc: a client certificate needs both its cert and key files")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("openenvgrpc: CA file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("openenvgrpc: CA file %s: no PEM certificate in it", caFile)
	}
	config := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("openenvgrpc: client certificate: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config)), nil
}

// WithToken is the dial option that sends "authorization: Bearer token" on
// every call, unary calls and streams alike; an empty token sends nothing,
// so WithToken(os.Getenv(...)) is safe when the variable is unset.
//
// The token goes out over plaintext too, as the other languages' clients
// send it: a server behind a TLS-terminating proxy sees no TLS itself.
// Anyone on a plaintext path can read the token: use it with WithTLS
// except on loopback or such a proxy's last hop.
func WithToken(token string) grpc.DialOption {
	if token == "" {
		return grpc.EmptyDialOption{}
	}
	return grpc.WithPerRPCCredentials(bearerToken{"Bearer " + token})
}

// bearerToken is the credentials.PerRPCCredentials of WithToken.
type bearerToken struct{ value string }

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{AuthorizationHeader: b.value}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return false }
