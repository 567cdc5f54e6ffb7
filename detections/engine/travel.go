package engine

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// KindTravel fires when two successive located events of one key (a
// user's successful sign-ins) are further apart than min_distance and the
// speed needed to cover the distance between them exceeds max_speed
// (impossible travel, geo-velocity).
const KindTravel = "travel"

// Limits of the travel kind's parameters.
const (
	maxTravelSpeed    = 100_000 // km/h
	maxTravelDistance = 20_100  // km, half the Earth's circumference
	earthRadiusKm     = 6371.0088
)

// travelKey is one group key's last located event.
type travelKey struct {
	group      []string
	last       int64 // time of the held location
	suppressed int64 // no firing before this time
	lat, lon   float64
	id         string // event id of the held location
	where      where  // city, country, address: for messages only
}

// where is a location as an alert message names it.
type where struct{ city, country, ip string }

func whereOf(ev *schema.Event) where {
	return where{city: ev.Cloud.City, country: ev.Cloud.Country, ip: ev.Source.IP}
}

// format renders "City, CC (ip)", falling back to the coordinates.
func (w where) format(lat, lon float64) string {
	var s string
	switch {
	case w.city != "" && w.country != "":
		s = w.city + ", " + w.country
	case w.country != "":
		s = w.country
	default:
		s = strconv.FormatFloat(lat, 'f', 2, 64) + "," + strconv.FormatFloat(lon, 'f', 2, 64)
	}
	if w.ip != "" {
		s += " (" + w.ip + ")"
	}
	return s
}

// travelEval evaluates a travel rule.
type travelEval struct {
	keyed[travelKey]
}

// process compares a located event with the key's previous location. Events
// without a location (cloud.latitude and cloud.longitude both 0) are
// counted in SkippedEmptyValue. The key keeps the newest location, so an
// event older than the held one is compared but does not replace it.
func (x *travelEval) process(ev *schema.Event, c *RuleStats, emit func(schema.Alert)) {
	r := x.r
	if !r.matches(ev) || !admit(x.tune, ev, c) {
		return
	}
	if !ev.Cloud.HasGeo() {
		c.SkippedEmptyValue++
		return
	}
	key, group, empty := groupKey(r, ev)
	if empty {
		c.SkippedEmptyKey++
		return
	}
	t := nanos(ev.Timestamp)
	x.sweep(t)
	n, created := x.key(key, c)
	k := &n.V
	k.group = group
	lat, lon := ev.Cloud.Latitude, ev.Cloud.Longitude
	if !created && k.id != "" && k.id != ev.ID {
		dt := t - k.last
		if dt < 0 {
			dt = -dt
		}
		km := Haversine(k.lat, k.lon, lat, lon)
		if dt <= int64(r.Window) && km >= r.MinDistance && max(t, k.last) >= k.suppressed {
			speed := math.Inf(1)
			if dt > 0 {
				speed = km / time.Duration(dt).Hours()
			}
			if speed > r.MaxSpeed {
				c.Alerts++
				emit(x.alert(ev, key, k, km, speed, time.Duration(dt)))
				k.suppressed = max(t, k.last) + int64(r.Window)
			}
		}
	}
	if created || k.id == "" || t >= k.last {
		k.last, k.lat, k.lon, k.id, k.where = t, lat, lon, ev.ID, whereOf(ev)
	}
}

func (x *travelEval) alert(ev *schema.Event, key string, k *travelKey, km, speed float64, dt time.Duration) schema.Alert {
	r := x.r
	t := nanos(ev.Timestamp)
	from := k.where.format(k.lat, k.lon)
	to := whereOf(ev).format(ev.Cloud.Latitude, ev.Cloud.Longitude)
	firstID, firstT := k.id, k.last
	if t < k.last {
		firstID, firstT, from, to = ev.ID, t, to, from // ev is the earlier one
	}
	a := baseAlert(r, ev)
	a.ID = schema.AlertID(r.ID, key, firstID)
	a.Timestamp = fromNanos(max(t, k.last))
	a.FirstSeen, a.LastSeen = fromNanos(min(firstT, t, k.last)), a.Timestamp
	a.Count = 2
	a.EventIDs = []string{firstID, ev.ID}
	if firstID == ev.ID {
		a.EventIDs[1] = k.id
	}
	a.Values = []string{from, to}
	a.GroupKey = groupMap(r.GroupBy, k.group)
	var b strings.Builder
	messageHead(&b, r, ev)
	b.WriteString(strconv.Itoa(int(math.Round(km))))
	b.WriteString(" km from ")
	b.WriteString(from)
	b.WriteString(" to ")
	b.WriteString(to)
	b.WriteString(" in ")
	b.WriteString(dt.Round(time.Second).String())
	if !math.IsInf(speed, 1) {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(int(math.Round(speed))))
		b.WriteString(" km/h")
		b.WriteString(")")
	}
	b.WriteString(", over the ")
	b.WriteString(strconv.Itoa(int(r.MaxSpeed)))
	b.WriteString(" km/h limit")
	a.Message = b.String()
	return a
}

// sweep drops keys whose location is older than the window (nothing can be
// compared with it any more) and whose suppression has passed, at most once
// per min(window, 1h) of event time.
func (x *travelEval) sweep(now int64) {
	w := int64(x.r.Window)
	x.sweepEvery(now, min(w, int64(time.Hour)), func(k *travelKey) bool { return now-k.last > w && k.suppressed <= now })
}

// Haversine returns the great-circle distance in kilometres between two
// points given in decimal degrees.
func Haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(s)))
}

// compileTravel reads a travel rule's parameters.
func (c *compiler) compileTravel(r *Rule, rf *ruleFile) {
	r.groupGetters = c.fields(r.GroupBy, "group_by")
	if len(r.GroupBy) == 0 {
		c.errf("kind", "group_by: required for kind travel (whose successive locations are compared, e.g. [user.name])")
	}
	r.Window = c.duration(rf.Window, "window", true)
	r.MaxSpeed = rf.MaxSpeed
	if r.MaxSpeed <= 0 || r.MaxSpeed > maxTravelSpeed {
		c.errf("max_speed", "max_speed: required for kind travel, km/h between 1 and %d", maxTravelSpeed)
	}
	r.MinDistance = rf.MinDistance
	if r.MinDistance < 0 || r.MinDistance > maxTravelDistance {
		c.errf("min_distance", "min_distance: km between 0 and %d", maxTravelDistance)
	}
}

func (x *travelEval) snapshot() ruleSnap {
	rs := ruleSnap{LastSweep: x.lastSweep, Keys: make([]keySnap, 0, x.keys.Len())}
	for n := x.keys.Front(); n != nil; n = n.Next() {
		k := &n.V
		rs.Keys = append(rs.Keys, keySnap{Key: n.Key, Group: k.group, Last: k.last, Suppressed: k.suppressed,
			Events: []evidSnap{{V: k.where.city + "\x1f" + k.where.country + "\x1f" + k.where.ip, T: k.last, ID: k.id}},
			Lat:    k.lat, Lon: k.lon})
	}
	return rs
}

func (x *travelEval) restore(rs ruleSnap) error {
	x.lastSweep = rs.LastSweep
	for _, ks := range rs.Keys {
		n, _, _ := x.keys.Upsert(ks.Key, x.maxKeys)
		n.V = travelKey{group: ks.Group, last: ks.Last, suppressed: ks.Suppressed, lat: ks.Lat, lon: ks.Lon}
		if len(ks.Events) > 0 {
			parts := strings.SplitN(ks.Events[0].V, "\x1f", 3)
			parts = append(parts, "", "", "")
			n.V.id, n.V.where = ks.Events[0].ID, where{city: parts[0], country: parts[1], ip: parts[2]}
		}
	}
	return nil
}
