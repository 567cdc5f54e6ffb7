// Package entracred builds the azidentity credential of an Entra app's
// settings (package entraauth): one construction for the entra source, the
// posture collector and the Entra response directory.
package entracred
