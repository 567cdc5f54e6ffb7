package config

import "github.com/castellan-itdr/castellan/sinks/secret"

// Secret is a configuration value that must never be printed or logged; see
// package sinks/secret. Every way of turning it into text yields
// "[REDACTED]"; [Secret.Value] returns the real value.
type Secret = secret.Secret
