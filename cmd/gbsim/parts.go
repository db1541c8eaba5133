package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseInts reads "4,5" as [4 5].
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("part %q: want a number from 1", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parsePairs reads "2:3,7:9" as [[2 3] [7 9]].
func parsePairs(s string) ([][2]int, error) {
	var out [][2]int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, b, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("pair %q: want a:b", f)
		}
		ns, err := parseInts(a + "," + b)
		if err != nil || len(ns) != 2 {
			return nil, fmt.Errorf("pair %q: want a:b with parts from 1", f)
		}
		out = append(out, [2]int{ns[0], ns[1]})
	}
	return out, nil
}
