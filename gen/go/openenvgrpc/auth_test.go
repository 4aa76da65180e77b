package openenvgrpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// pki is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, as PEM files in a test's temp dir.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	server tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.ca, p.caKey = p.issue(t, "ca", &x509.Certificate{IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true})
	p.issue(t, "server", &x509.Certificate{
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.issue(t, "client", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	var err error
	if p.server, err = tls.LoadX509KeyPair(p.path("server.crt"), p.path("server.key")); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// issue writes name.crt (signed by the CA, or by itself for the CA) and
// name.key.
func (p *pki) issue(t *testing.T, name string, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.Subject = pkix.Name{CommonName: "openenvgrpc test " + name}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	parent, signer := tmpl, key
	if p.ca != nil {
		parent, signer = p.ca, p.caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, kind string, b []byte) {
		if err := os.WriteFile(p.path(file), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".crt", "CERTIFICATE", der)
	write(name+".key", "PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// seenServer answers Describe and StepStream with what it saw of the
// caller: the authorization header as the env name and, for a client
// certificate, its common name as the protocol version.
type seenServer struct {
	openenvv1.UnimplementedEnvServiceServer
}

func seen(ctx context.Context) *openenvv1.DescribeResponse {
	md, _ := metadata.FromIncomingContext(ctx)
	r := &openenvv1.DescribeResponse{EnvName: "none"}
	if v := md.Get(AuthorizationHeader); len(v) > 0 {
		r.EnvName = v[0]
	}
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			r.ProtocolVersion = info.State.PeerCertificates[0].Subject.CommonName
		}
	}
	return r
}

func (seenServer) Describe(ctx context.Context, _ *openenvv1.DescribeRequest) (*openenvv1.DescribeResponse, error) {
	return seen(ctx), nil
}

// StepStream answers its first request with the authorization header it
// saw, as the session id.
func (seenServer) StepStream(stream grpc.BidiStreamingServer[openenvv1.StepStreamRequest, openenvv1.StepStreamResponse]) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	return stream.Send(&openenvv1.StepStreamResponse{Response: &openenvv1.StepStreamResponse_ResetResponse{
		ResetResponse: &openenvv1.ResetResponse{SessionId: seen(stream.Context()).GetEnvName()},
	}})
}

// serveTLS serves seenServer over TLS on 127.0.0.1, asking for (not
// requiring) a client certificate signed by the CA.
func serveTLS(t *testing.T, p *pki) string {
	t.Helper()
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(p.ca)
	server := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    clientCAs,
	})))
	openenvv1.RegisterEnvServiceServer(server, seenServer{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(lis)
	t.Cleanup(server.Stop)
	return lis.Addr().String()
}

func TestTLSAndTokenOnUnaryAndStream(t *testing.T) {
	p := newPKI(t)
	address := serveTLS(t, p)
	withTLS, err := WithTLS(p.path("ca.crt"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(address, withTLS, WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r, err := client.Describe(ctx, &openenvv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetEnvName() != "Bearer s3cret" || r.GetProtocolVersion() != "" {
		t.Errorf("unary call: server saw authorization %q, client cert %q", r.GetEnvName(), r.GetProtocolVersion())
	}
	stream, err := client.StepStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&openenvv1.StepStreamRequest{}); err != nil {
		t.Fatal(err)
	}
	answer, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := answer.GetResetResponse().GetSessionId(); got != "Bearer s3cret" {
		t.Errorf("stream: server saw authorization %q", got)
	}
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	address := serveTLS(t, p)
	withTLS, err := WithTLS(p.path("ca.crt"), p.path("client.crt"), p.path("client.key"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(address, withTLS, WithToken(""))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := client.Describe(ctx, &openenvv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetProtocolVersion() != "openenvgrpc test client" || r.GetEnvName() != "none" {
		t.Errorf("server saw client cert %q, authorization %q", r.GetProtocolVersion(), r.GetEnvName())
	}
}

func TestPlaintextClientFailsOnTLSServer(t *testing.T) {
	address := serveTLS(t, newPKI(t))
	client, err := NewClient(address)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.Describe(ctx, &openenvv1.DescribeRequest{}); err == nil {
		t.Fatal("a plaintext call to a TLS server succeeded")
	}
}

func TestWithTLSRefusesBadFiles(t *testing.T) {
	p := newPKI(t)
	for name, files := range map[string][3]string{
		"no CA":          {"", "", ""},
		"missing CA":     {p.path("nope.crt"), "", ""},
		"CA not PEM":     {p.path("ca.key.none"), "", ""},
		"cert, no key":   {p.path("ca.crt"), p.path("client.crt"), ""},
		"key as the CA":  {p.path("client.key"), "", ""},
		"mismatched key": {p.path("ca.crt"), p.path("client.crt"), p.path("server.key")},
	} {
		if name == "CA not PEM" {
			if err := os.WriteFile(files[0], []byte("not a certificate"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := WithTLS(files[0], files[1], files[2]); err == nil {
			t.Errorf("%s: WithTLS accepted %v", name, files)
		}
	}
}
