package azcloud

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

func TestConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name      string
		authority string
		ok        bool
	}{
		{Public, "https://login.microsoftonline.com/", true},
		{USGov, "https://login.microsoftonline.us/", true},
		{China, "https://login.chinacloudapi.cn/", true},
		{"", "", false},
		{"mars", "", false},
	} {
		c, ok := Configuration(tc.name)
		if ok != tc.ok || c.ActiveDirectoryAuthorityHost != tc.authority {
			t.Errorf("Configuration(%q) = %q, %v; want %q, %v", tc.name, c.ActiveDirectoryAuthorityHost, ok, tc.authority, tc.ok)
		}
	}
	// The returned configuration is a copy: changing it leaves the SDK's alone.
	c, _ := Configuration(Public)
	c.ActiveDirectoryAuthorityHost = "https://example.test/"
	if cloud.AzurePublic.ActiveDirectoryAuthorityHost != "https://login.microsoftonline.com/" {
		t.Fatal("Configuration returned the SDK's configuration by reference")
	}
}
