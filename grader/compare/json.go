package compare

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes comparison.json (schemaVersion 1). HTML-significant characters are written
// as \u escapes, so the file can be embedded in a page as it is.
func (c Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("write comparison.json: %w", err)
	}
	return nil
}
