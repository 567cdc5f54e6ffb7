package jsonscan

import "encoding/json"

// AppendString appends s as json.Marshal writes it (HTML characters
// escaped, invalid UTF-8 replaced): directly when it is plain printable
// ASCII, else through encoding/json.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
