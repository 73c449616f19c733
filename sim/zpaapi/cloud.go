package zpaapi

import (
	"fmt"
	"sort"
	"strings"
)

// legacyBaseURLs are the legacy ZPA API hosts by ZPA_CLOUD, as
// zscaler-sdk-go zscaler/zpa/v2_config.go lists them (NewConfiguration).
// Zscaler-internal DEV, QA and QA2 are left out.
var legacyBaseURLs = map[string]string{
	"PRODUCTION": "https://config.private.zscaler.com",
	"BETA":       "https://config.zpabeta.net",
	"ZPATWO":     "https://config.zpatwo.net",
	"GOV":        "https://config.zpagov.net",
	"GOVUS":      "https://config.zpagov.us",
	"PREVIEW":    "https://config.zpapreview.net",
}

// oneAPIGov are the FedRAMP clouds whose token host and API gateway do not
// follow the commercial pattern: zscaler-sdk-go zscaler/oneapiclient.go
// oneAPIGovAuthDomains and oneAPIGovAPIBaseURLs. (The SDK's README writes
// zidentitygovus.net for govus; its code, followed here, uses
// zidentitygov.us.)
var oneAPIGov = map[string]struct{ authDomain, apiBase string }{
	"gov":   {"zidentitygov.net", "https://api.zscalergov.net"},
	"govus": {"zidentitygov.us", "https://api.zscalergov.us"},
}

// LegacyClouds lists the accepted legacy ZPA_CLOUD values.
func LegacyClouds() []string {
	names := make([]string, 0, len(legacyBaseURLs))
	for n := range legacyBaseURLs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isProduction(cloud string) bool {
	return cloud == "" || strings.EqualFold(cloud, "PRODUCTION")
}

// legacyBaseURL is the API host of a legacy cloud.
func legacyBaseURL(cloud string) (string, error) {
	if isProduction(cloud) {
		return legacyBaseURLs["PRODUCTION"], nil
	}
	if u, ok := legacyBaseURLs[strings.ToUpper(cloud)]; ok {
		return u, nil
	}
	return "", fmt.Errorf("zpaapi: unknown legacy ZPA cloud %q: accepted are %s", cloud, strings.Join(LegacyClouds(), ", "))
}

// oneAPITokenURL follows getAuthURL in zscaler-sdk-go zscaler/oneapiclient.go:
// https://{vanity}.zslogin.net/oauth2/v1/token for PRODUCTION,
// https://{vanity}.zslogin{cloud}.net/oauth2/v1/token for other commercial
// clouds, the ZIdentity gov domains for GOV and GOVUS.
func oneAPITokenURL(vanity, cloud string) string {
	if isProduction(cloud) {
		return fmt.Sprintf("https://%s.zslogin.net/oauth2/v1/token", vanity)
	}
	if g, ok := oneAPIGov[strings.ToLower(cloud)]; ok {
		return fmt.Sprintf("https://%s.%s/oauth2/v1/token", vanity, g.authDomain)
	}
	return fmt.Sprintf("https://%s.zslogin%s.net/oauth2/v1/token", vanity, strings.ToLower(cloud))
}

// oneAPIBaseURL follows GetAPIBaseURL in zscaler-sdk-go
// zscaler/oneapiclient.go: https://api.zsapi.net for PRODUCTION,
// https://api.{cloud}.zsapi.net otherwise, the gov gateways for GOV, GOVUS.
func oneAPIBaseURL(cloud string) string {
	if g, ok := oneAPIGov[strings.ToLower(cloud)]; ok {
		return g.apiBase
	}
	if isProduction(cloud) {
		return "https://api.zsapi.net"
	}
	return fmt.Sprintf("https://api.%s.zsapi.net", strings.ToLower(cloud))
}

// oneAPIPathPrefix is what OneAPI puts before the legacy paths: the SDK's
// endpoints start "/zpa/mgmtconfig/..." and its legacy client strips "/zpa"
// (zscaler-sdk-go zscaler/utils.go removeOneApiEndpointPrefix); the Python
// SDK's recorded OneAPI requests go to .../zpa/mgmtconfig/v1/admin/customers/...
const oneAPIPathPrefix = "/zpa"

// endpoints resolves the API base, the sign-in URL and the path prefix of c.
func (c Config) endpoints() (base, signin, prefix string, err error) {
	switch c.Flow {
	case FlowLegacy:
		base = c.BaseURL
		if base == "" {
			if base, err = legacyBaseURL(c.Cloud); err != nil {
				return "", "", "", err
			}
		}
		base = strings.TrimSuffix(base, "/")
		return base, base + "/signin", "", nil
	case FlowOneAPI:
		base = c.BaseURL
		if base == "" {
			base = oneAPIBaseURL(c.Cloud)
		}
		signin = c.TokenURL
		if signin == "" {
			signin = oneAPITokenURL(c.VanityDomain, c.Cloud)
		}
		return strings.TrimSuffix(base, "/"), signin, oneAPIPathPrefix, nil
	}
	return "", "", "", fmt.Errorf("zpaapi: no sign-in flow chosen: set Flow to FlowLegacy or FlowOneAPI")
}
