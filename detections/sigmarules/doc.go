// Package sigmarules holds the curated Sigma rules Castellan ships: a
// selection of identity-relevant SigmaHQ rules (Detection Rule License 1.1,
// see README.md) and the project's own rules (author "Castellan") for attack
// telemetry seen on Windows hosts — process creation, PowerShell, services,
// scheduled tasks, WMI, registry persistence, LSASS access and BITS.
package sigmarules
