// Command demo-backend is the console's demo workload: one binary that answers every protocol a
// route can carry, saying which Service and pod answered, so that tests and people can see a
// route reach the right backend.
//
//	:8080  HTTP, and WebSocket echo on any path asked to upgrade
//	:8443  the same over TLS (a certificate made at start), for backends that speak TLS
//	:9090  gRPC over h2c: grpc.health.v1.Health and demo.Echo/Echo (google.protobuf.StringValue)
//	:9443  the same gRPC over TLS
//
// An HTTP request with ?delay=<duration> (at most 60s, e.g. 3s) is answered that much later, for
// the gateways' timeouts; a request body is read and its size said.
// SERVICE_NAME and POD_NAME (from the downward API) name the answer; both default to the host name.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const maxDelay = time.Minute

var (
	service  = envOr("SERVICE_NAME", hostname())
	pod      = envOr("POD_NAME", hostname())
	upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
)

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func hostname() string {
	name, _ := os.Hostname()
	return name
}

// answer says who answered what: JSON for programs, a small page for browsers.
func answer(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		echo(w, r)
		return
	}
	if delay, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil && delay > 0 && delay <= maxDelay {
		time.Sleep(delay)
	}
	received, _ := io.Copy(io.Discard, r.Body)
	body := map[string]any{
		"received": received,
		"service":  service,
		"pod":      pod,
		"path":     r.URL.Path,
		"host":     r.Host,
		"tls":      r.TLS != nil,
		"proto":    r.Proto,
		// The W3C trace context a tracing gateway passes on.
		"traceparent": r.Header.Get("traceparent"),
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%[1]s</title><h1>%[1]s</h1><p>Pod <b>%[2]s</b> answered %[3]s on %[4]s.</p>",
			html.EscapeString(service), html.EscapeString(pod), html.EscapeString(r.URL.Path), html.EscapeString(r.Host))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// echo sends every WebSocket message back, prefixed with the pod that answered.
func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	for {
		kind, message, err := conn.ReadMessage()
		if err != nil {
			return
		}
		reply := append([]byte(pod+": "), message...)
		if err := conn.WriteMessage(kind, reply); err != nil {
			return
		}
	}
}

// The demo.Echo service, written out by hand so that no code generator is needed.
type echoServer interface {
	Echo(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

type echoer struct{}

func (echoer) Echo(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	authority := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md[":authority"]) > 0 {
		authority = md[":authority"][0]
	}
	return wrapperspb.String(fmt.Sprintf("%s/%s (%s): %s", service, pod, authority, in.GetValue())), nil
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "demo.Echo",
	HandlerType: (*echoServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, decode func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := decode(in); err != nil {
				return nil, err
			}
			return srv.(echoServer).Echo(ctx, in)
		},
	}},
	Metadata: "demo/echo.proto",
}

func grpcServer(options ...grpc.ServerOption) *grpc.Server {
	server := grpc.NewServer(options...)
	healthpb.RegisterHealthServer(server, health.NewServer())
	server.RegisterService(&echoDesc, echoer{})
	return server
}

// selfSigned makes a certificate for the pod's own names, for the TLS ports.
func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: service},
		DNSNames:     []string{service, pod, "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func listen(address string) net.Listener {
	listener, err := net.Listen("tcp", address)
	if err != nil {
		log.Fatal(err)
	}
	return listener
}

func main() {
	certificate := selfSigned()
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{certificate}, NextProtos: []string{"h2", "http/1.1"}}
	handler := http.HandlerFunc(answer)
	go func() { log.Fatal(http.Serve(listen(":8080"), handler)) }()
	go func() { log.Fatal(http.Serve(tls.NewListener(listen(":8443"), tlsConfig), handler)) }()
	go func() { log.Fatal(grpcServer().Serve(listen(":9090"))) }()
	secure := grpcServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{certificate}})))
	log.Printf("%s/%s answering on :8080 (HTTP, WebSocket), :8443 (TLS), :9090 (gRPC h2c), :9443 (gRPC TLS)", service, pod)
	log.Fatal(secure.Serve(listen(":9443")))
}
