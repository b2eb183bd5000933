# Writes N lines of GeoJSON features shaped like the San Francisco city-lots
# file that event-ruler and quamina benchmark on (the schema of
# ../shared/data/citylots-synth.jlines.gz), the same bytes on every run and
# every awk: a Park-Miller generator in exact integer arithmetic.
# Usage: awk -v n=LINES -f tests/lib/citylots.awk
function rnd(m) { seed = (seed * 16807) % 2147483647; return seed % m }
function coord(base, span) { return sprintf("%.14f", base + rnd(span) / 1000000000) }
BEGIN {
	seed = 20261207
	ns = split("16TH MASONIC CRANLEIGH MISSION VALENCIA GEARY LAWTON JUDAH " \
	    "NORIEGA TARAVAL IRVING HAIGHT FOLSOM HOWARD BRYANT CASTRO", st, " ")
	nt = split("ST AVE TER WAY BLVD", ty, " ")
	for (i = 0; i < n; i++) {
		blk = sprintf("%04d", rnd(9999)); lot = sprintf("%03d", rnd(999))
		from = rnd(3000); to = from + 2 * rnd(4)
		printf "{ \"type\": \"Feature\", \"properties\": { \"MAPBLKLOT\": \"%s%s\", " \
		    "\"BLKLOT\": \"%s%s\", \"BLOCK_NUM\": \"%s\", \"LOT_NUM\": \"%s\", " \
		    "\"FROM_ST\": \"%d\", \"TO_ST\": \"%d\", \"STREET\": \"%s\", " \
		    "\"ST_TYPE\": \"%s\", \"ODD_EVEN\": \"%s\" }, \"geometry\": { " \
		    "\"type\": \"Polygon\", \"coordinates\": [ [ ", blk, lot, blk, lot,
		    blk, lot, from, to, st[1 + rnd(ns)], ty[1 + rnd(nt)],
		    (from % 2 ? "O" : "E")
		k = 4 + rnd(12)
		for (j = 0; j < k; j++)
			printf "%s[ %s, %s, 0.0 ]", (j ? ", " : ""),
			    coord(-122.52, 150000000), coord(37.70, 110000000)
		printf " ] ] } }\n"
	}
}
