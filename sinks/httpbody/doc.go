// Package httpbody reads an HTTP body whose length was announced into one
// buffer of that size instead of io.ReadAll's doublings: the Elastic sink
// reads its responses with it and the doubles their requests.
package httpbody
