package brew

import "errors"

func asErr[T error](err error, target *T) bool {
	if err == nil {
		return false
	}
	return errors.As(err, target)
}
