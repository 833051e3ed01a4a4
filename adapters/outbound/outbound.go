// Package outbound is the HTTP client of calls to source systems. A
// connection's address is typed by an office, so the client must not let
// it reach inside the deployment: https only, no loopback, private,
// link-local or multicast address (checked on the address actually
// dialled, so a DNS answer that changes between check and call cannot
// slip through), no redirect to another host, no proxy from the
// environment. An operator allowlists the hosts that may be reached over
// plain http and on internal addresses (CLIENTREG_SOURCE_HOSTS_ALLOW_HTTP).
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/clientreg/clientreg/domain"
)

// Policy says which hosts are exempt from the rules.
type Policy struct {
	// AllowHTTP are host names or IP addresses (no port) that may be
	// reached over http and on internal addresses.
	AllowHTTP []string
}

// ParseHosts reads a comma- or space-separated list of hosts.
func ParseHosts(s string) []string {
	var out []string
	for _, h := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		out = append(out, strings.Trim(strings.ToLower(h), "[]"))
	}
	return out
}

func (p Policy) allowed(host string) bool {
	host = strings.Trim(strings.ToLower(host), "[]")
	for _, h := range p.AllowHTTP {
		if h == host {
			return true
		}
	}
	return false
}

// CheckURL refuses an address the client would not call: plain http to a
// host that is not allowlisted.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return domain.ValidationErrors{{Field: "base_url", Code: "invalid_url", Message: "base_url must be the https address of the server"}}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && p.allowed(u.Hostname())) {
		return domain.ValidationErrors{{Field: "base_url", Code: "https_required",
			Message: "base_url must start with https:// (the API key would travel in clear over http)"}}
	}
	return nil
}

// ErrBlocked: the address is internal and not allowlisted. Callers word it
// exactly as any other failure to connect.
var ErrBlocked = errors.New("address not allowed for outbound calls")

// ErrRedirect: the server redirected elsewhere.
var ErrRedirect = errors.New("redirect to another host not followed")

// Client is the HTTP client of source calls.
func (p Policy) Client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy from the environment would dial in our place, unchecked
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	t.DialContext = p.dial
	t.MaxResponseHeaderBytes = 1 << 20
	return &http.Client{Timeout: timeout, Transport: guard{next: t, policy: p}, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if len(via) >= 5 || req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
			return ErrRedirect
		}
		return nil
	}}
}

// guard refuses plain http to a host that is not allowlisted, whoever
// builds the request (an adapter, an OAuth2 library, a redirect).
type guard struct {
	next   http.RoundTripper
	policy Policy
}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && g.policy.allowed(req.URL.Hostname())) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, ErrBlocked
	}
	return g.next.RoundTrip(req)
}

func (p Policy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	if !p.allowed(host) {
		d.Control = refuseInternal
	}
	return d.DialContext(ctx, network, addr)
}

// refuseInternal runs on the resolved address of every connection attempt.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ErrBlocked
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !Public(ip) {
		return ErrBlocked
	}
	return nil
}

var reserved = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",         // this network
		"100.64.0.0/10",     // carrier-grade NAT
		"192.0.0.0/24",      // protocol assignments
		"198.18.0.0/15",     // benchmarking
		"240.0.0.0/4",       // reserved, broadcast
		"64:ff9b::/96",      // NAT64: may embed an internal IPv4
		"64:ff9b:1::/48",    // local-use NAT64
		"2002::/16",         // 6to4: may embed an internal IPv4
		"fec0::/10",         // site-local (deprecated)
		"2001::/32",         // Teredo
		"::/128", "::1/128", // unspecified, loopback
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public tells whether ip is a public unicast address.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// String describes the policy for logs.
func (p Policy) String() string {
	if len(p.AllowHTTP) == 0 {
		return "https to public addresses only"
	}
	return fmt.Sprintf("https to public addresses; http and internal addresses allowed for %s", strings.Join(p.AllowHTTP, ", "))
}
