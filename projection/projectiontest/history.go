package projectiontest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/projgen/projgen/projection"
)

// history returns n stored events of the topics that types decodes, for
// aggregates drawn from ids, each aggregate's versions counting from 1.
// Payloads are filled with values from small sets, so that events meet
// on the same rows: the same child key, the same flag, the same name.
func history(rng *rand.Rand, types projection.EventTypes, topics, ids []string, n int, opts ...HistoryOption) ([]projection.Stored, error) {
	var spec historySpec
	for _, o := range opts {
		o(&spec)
	}
	versions := map[string]int64{}
	events := make([]projection.Stored, 0, n)
	for range n {
		k := rng.IntN(len(ids))
		id := ids[k]
		topic := topics[rng.IntN(len(topics))]
		versions[id]++
		data := []byte("null")
		if newPayload := types[topic]; newPayload != nil {
			payload := newPayload()
			fill(rng, reflect.ValueOf(payload).Elem(), 0)
			for _, field := range spec.unique[topic] {
				if v := reflect.ValueOf(payload).Elem(); v.Kind() == reflect.Struct {
					setUnique(v.FieldByName(field), k)
				}
			}
			b, err := json.Marshal(payload)
			if err != nil {
				return nil, fmt.Errorf("encode a random %T for %s: %w", payload, topic, err)
			}
			data = b
		}
		events = append(events, projection.Stored{
			Meta: projection.Meta{AggregateID: id, Version: versions[id], Topic: topic},
			Data: data,
		})
	}
	return events, nil
}

// randomTime returns one of three times, so that events collide on them.
func randomTime(rng *rand.Rand) time.Time {
	times := [...]time.Time{
		time.Date(2026, time.January, 5, 17, 0, 0, 0, time.UTC),
		time.Date(2026, time.March, 9, 8, 30, 0, 0, time.UTC),
		time.Date(2027, time.July, 1, 23, 59, 59, 0, time.UTC),
	}
	return times[rng.IntN(len(times))]
}

// randomWord returns one of three words.
func randomWord(rng *rand.Rand) string {
	words := [...]string{"alpha", "beta", "gamma"}
	return words[rng.IntN(len(words))]
}

// fill sets v, and what it holds, to random values from small sets, so
// that events collide on keys and values. Interfaces, channels
// and functions stay zero; depth bounds recursive types.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	if !v.CanSet() || depth > 4 {
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(randomTime(rng)))
		return
	}
	// A type that encodes itself (json.RawMessage among them) may refuse
	// random contents: its zero value is what it says it encodes.
	if marshaler := reflect.TypeFor[json.Marshaler](); v.Type().Implements(marshaler) || reflect.PointerTo(v.Type()).Implements(marshaler) {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.IntN(4)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(rng.IntN(4)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(rng.IntN(4)) / 2)
	case reflect.String:
		v.SetString(randomWord(rng))
	case reflect.Array:
		// Byte arrays, UUIDs among them, from three values.
		pick := rng.IntN(3)
		for i := range v.Len() {
			if v.Index(i).Kind() == reflect.Uint8 {
				v.Index(i).SetUint(uint64(pick + i%2))
				continue
			}
			fill(rng, v.Index(i), depth+1)
		}
	case reflect.Pointer:
		if rng.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		if v.Type().Key().Kind() == reflect.String && rng.IntN(2) == 0 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(rng, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(rng, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(rng, v.Field(i), depth+1)
		}
	}
}

// topicsOf returns the topics of types that are among want, sorted, so
// that a seed gives the same history whatever the map's order.
func topicsOf(types projection.EventTypes, want []string) []string {
	var topics []string
	for _, t := range want {
		if _, ok := types[t]; ok && !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	slices.Sort(topics)
	return topics
}

// A HistoryOption shapes the random histories of FastRebuildEqualsReplay
// and QueriesReadTheTable.
type HistoryOption func(*historySpec)

type historySpec struct {
	unique map[string][]string // topic → payload fields
}

// UniqueField gives field of the payloads of topic one value per
// aggregate, different for each: the values of a column declared
// unique, which random values would repeat across rows.
func UniqueField(topic, field string) HistoryOption {
	return func(s *historySpec) {
		if s.unique == nil {
			s.unique = map[string][]string{}
		}
		s.unique[topic] = append(s.unique[topic], field)
	}
}

// setUnique sets v to the value of the k-th aggregate.
func setUnique(v reflect.Value, k int) {
	if !v.IsValid() || !v.CanSet() {
		return
	}
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		setUnique(p.Elem(), k)
		v.Set(p)
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, time.January, 1, k, 0, 0, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("unique-%d", k+1))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(k + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(k + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(k + 1))
	case reflect.Array:
		for i := range v.Len() {
			v.Index(i).SetZero()
		}
		if n := v.Len(); n > 0 && v.Index(n-1).Kind() == reflect.Uint8 {
			v.Index(n - 1).SetUint(uint64(k + 1))
		}
	}
}
