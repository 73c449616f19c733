package zpaapi

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// clientAssertion is the RS256 JWT a ZIdentity client with a private key
// signs in with: iss and sub the client ID, aud https://api.zscaler.com,
// exp ten minutes ahead (zscaler-sdk-go zscaler/oneapiclient.go
// authenticateWithCert). The key is PEM, PKCS#1 or PKCS#8.
func clientAssertion(clientID string, keyPEM []byte, now time.Time) (string, error) {
	key, err := parseRSAKey(keyPEM)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": oneAPIAudience,
		"exp": now.Add(10 * time.Minute).Unix(),
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("zpaapi: signing the client assertion: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

func parseRSAKey(keyPEM []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("zpaapi: %s is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)", EnvPrivateKey)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("zpaapi: %s: neither a PKCS#1 nor a PKCS#8 private key", EnvPrivateKey)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("zpaapi: " + EnvPrivateKey + ": not an RSA key; ZIdentity client assertions are RS256")
	}
	return rk, nil
}
