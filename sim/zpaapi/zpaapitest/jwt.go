package zpaapitest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// PublicKey verifies OneAPI client assertions (RS256 JWTs).
type PublicKey struct {
	Key *rsa.PublicKey
	// Now defaults to time.Now, for the exp check.
	Now func() time.Time
}

func (k *PublicKey) verify(jwt, clientID string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	enc := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "RS256" {
		return errors.New("header is not RS256")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	var c struct {
		Iss, Sub, Aud string
		Exp           int64
	}
	if err := decodePart(parts[1], &c); err != nil {
		return err
	}
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	if c.Iss != clientID || c.Sub != clientID || c.Aud != "https://api.zscaler.com" || c.Exp < now().Unix() {
		return errors.New("claims do not match")
	}
	return nil
}

func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
