// Package config loads and validates the Castellan configuration file.
//
// A configuration is YAML. [Parse] decodes it strictly: an unknown key
// anywhere (top level, nested section or a component's own settings) is an
// error naming the file, line and path, for example
//
//	castellan.yaml:7: sinks.file: unknown field "pth" (did you mean "path"?)
//
// Before decoding, every scalar value of the parsed YAML tree may reference
// an environment variable as ${env:NAME}; the reference is replaced by the
// variable's value. Substitution works on the node tree, never on the raw
// text, so a variable's value cannot inject YAML structure. A missing
// variable is an error with its path; $${env:NAME} escapes to the literal
// text ${env:NAME}. A substituted value takes the type its text implies, so
// batch_size: "${env:N}" is an integer when N=500. Inside a flow mapping
// ({ ... }) quote the reference, as YAML does not allow "{" "}" in plain
// scalars there: { token: "${env:HEC_TOKEN}" }.
//
// Sources and sinks are keyed by component id, "type" or "type/name". Their
// settings types live in the components' own packages; the caller supplies
// them through a [Registry] that maps each type to a constructor of its
// default configuration.
//
// Parse reports every decode problem it can find, joined, each a
// [*DecodeError] with file, line and path. It does not validate values.
//
// [Config.Validate] checks the decoded configuration recursively and returns
// every problem at once, joined, each a [*FieldError] carrying its full path
// (sinks.file.path: required). [Problems] flattens such an error into lines
// for display. Values of type [Secret] print, marshal and log as [REDACTED].
//
// The package never logs and holds no global state.
package config
