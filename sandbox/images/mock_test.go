package images

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMockRefusesWhatIsNotAStaticBinary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		binary  func(testing.TB) string
		static  bool // whether the error says the binary is not static
		wantErr []string
	}{
		{"a dynamically linked binary (Node)", nodeBinary, true, []string{"build mock image: ", "not a static binary", "ld-linux", "libc.so.6", "CGO_ENABLED=0"}},
		{"a file that is not ELF", textFile, false, []string{"build mock image: ", "read ELF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Mock(context.Background(), refusingAPI{t}, tt.binary(t))
			require.Equal(t, tt.static, errors.Is(err, errNotStatic), "%v", err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestRequireStaticAcceptsAStaticGoBinary(t *testing.T) {
	t.Parallel()
	require.NoError(t, requireStatic(graderBinary(t)))
}
