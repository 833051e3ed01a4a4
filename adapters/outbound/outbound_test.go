package outbound

import (
	"net/netip"
	"testing"
)

func TestPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2a00:1450:4001::1": true, "193.190.10.1": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "224.0.0.1": false, "255.255.255.255": false,
		"::1": false, "::": false, "fe80::1": false, "fd00::1": false, "ff02::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false,
	} {
		if got := Public(netip.MustParseAddr(s)); got != want {
			t.Errorf("Public(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	p := Policy{AllowHTTP: ParseHosts("127.0.0.1, ERP.local")}
	for u, ok := range map[string]bool{"https://office.example.be": true, "http://office.example.be": false,
		"http://127.0.0.1:8080": true, "http://erp.local": true, "ftp://office.example.be": false} {
		if err := p.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%s) = %v", u, err)
		}
	}
}
