package zpaapi

import (
	"errors"
	"fmt"
	"strings"
)

// Environment variable names, as zscaler-sdk-go reads them: the legacy
// client in zscaler/zpa/v2_config.go (ZPA_CLIENT_ID, ZPA_CLIENT_SECRET,
// ZPA_CUSTOMER_ID, ZPA_CLOUD), OneAPI in zscaler/oneapiclient.go
// (ZSCALER_CLIENT_ID, ZSCALER_CLIENT_SECRET, ZSCALER_PRIVATE_KEY,
// ZSCALER_VANITY_DOMAIN, ZSCALER_CLOUD, with ZPA_CUSTOMER_ID), and the
// switch ZSCALER_USE_LEGACY_CLIENT (the SDK's README, "Authentication").
const (
	EnvZPAClientID     = "ZPA_CLIENT_ID"
	EnvZPAClientSecret = "ZPA_CLIENT_SECRET"
	EnvZPACustomerID   = "ZPA_CUSTOMER_ID"
	EnvZPACloud        = "ZPA_CLOUD"
	EnvClientID        = "ZSCALER_CLIENT_ID"
	EnvClientSecret    = "ZSCALER_CLIENT_SECRET"
	EnvPrivateKey      = "ZSCALER_PRIVATE_KEY"
	EnvVanityDomain    = "ZSCALER_VANITY_DOMAIN"
	EnvCloud           = "ZSCALER_CLOUD"
	EnvUseLegacyClient = "ZSCALER_USE_LEGACY_CLIENT"
)

// ConfigFromEnv builds a Config from the SDK's environment variables
// (getenv is os.Getenv outside tests). ZSCALER_USE_LEGACY_CLIENT=true, or
// ZPA_CLIENT_ID without ZSCALER_CLIENT_ID, chooses the legacy flow;
// ZSCALER_CLIENT_ID chooses OneAPI. The result is validated.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	legacy := strings.EqualFold(strings.TrimSpace(getenv(EnvUseLegacyClient)), "true")
	switch {
	case legacy || (getenv(EnvClientID) == "" && getenv(EnvZPAClientID) != ""):
		c = Config{Flow: FlowLegacy, ClientID: getenv(EnvZPAClientID), ClientSecret: getenv(EnvZPAClientSecret),
			Cloud: getenv(EnvZPACloud)}
	case getenv(EnvClientID) != "":
		c = Config{Flow: FlowOneAPI, ClientID: getenv(EnvClientID), ClientSecret: getenv(EnvClientSecret),
			VanityDomain: getenv(EnvVanityDomain), Cloud: getenv(EnvCloud)}
		if k := getenv(EnvPrivateKey); k != "" {
			c.PrivateKey = []byte(k)
		}
	default:
		return Config{}, fmt.Errorf("zpaapi: no API credentials in the environment: set %s, %s (or %s), %s, %s and %s for a ZIdentity (OneAPI) client, or %s, %s, %s and %s for a legacy ZPA API key",
			EnvClientID, EnvClientSecret, EnvPrivateKey, EnvVanityDomain, EnvCloud, EnvZPACustomerID,
			EnvZPAClientID, EnvZPAClientSecret, EnvZPACustomerID, EnvZPACloud)
	}
	c.CustomerID = getenv(EnvZPACustomerID)
	return c, c.Validate()
}

// Validate reports every missing or contradictory field at once, naming the
// environment variable that would carry it.
func (c Config) Validate() error {
	var errs []error
	missing := func(what, env, hint string) {
		errs = append(errs, fmt.Errorf("zpaapi: missing %s (%s): %s", what, env, hint))
	}
	idEnv, secretEnv := EnvZPAClientID, EnvZPAClientSecret
	if c.Flow == FlowOneAPI {
		idEnv, secretEnv = EnvClientID, EnvClientSecret
	}
	switch c.Flow {
	case FlowLegacy, FlowOneAPI:
	default:
		errs = append(errs, errors.New("zpaapi: no sign-in flow chosen: legacy (ZPA API key) or oneapi (ZIdentity API client)"))
	}
	if c.ClientID == "" {
		missing("client ID", idEnv, "the API client's ID")
	}
	switch {
	case c.Flow == FlowLegacy && len(c.PrivateKey) > 0:
		errs = append(errs, errors.New("zpaapi: a private key signs in only a ZIdentity (OneAPI) client; a legacy ZPA API key takes its client secret"))
	case c.ClientSecret == "" && len(c.PrivateKey) == 0:
		missing("client secret", secretEnv, "the secret shown once when the API client was made")
	}
	switch {
	case c.CustomerID == "":
		missing("customer ID", EnvZPACustomerID, "the ZPA tenant ID (ZPA console: Public API > API Keys)")
	case strings.Trim(c.CustomerID, "0123456789") != "":
		errs = append(errs, fmt.Errorf("zpaapi: customer ID (%s) %q is not a number: want the numeric ZPA tenant ID, such as 216199618143191040", EnvZPACustomerID, c.CustomerID))
	}
	if c.Flow == FlowOneAPI && c.VanityDomain == "" && c.TokenURL == "" {
		missing("vanity domain", EnvVanityDomain, "the ZIdentity vanity domain, as in https://<vanity>.zslogin.net")
	}
	if c.Flow == FlowLegacy && c.BaseURL == "" {
		if _, err := legacyBaseURL(c.Cloud); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
