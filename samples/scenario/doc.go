// Package scenario builds synthetic Active Directory domains and the Windows events their
// users, services, domain controllers and attackers produce over one simulated day.
//
// Everything is driven by one seeded PCG source: the same name, seed and start time always
// yield the same domain and the same events in the same order. The package knows nothing
// about file formats; package samples encodes and writes the events.
package scenario
