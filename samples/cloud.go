package samples

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/samples/scenario"
)

// CloudFile is where Generate writes the scenario's Entra ID sign-ins,
// relative to OutDir: Microsoft Graph signIn resources, one per line (read
// them with the winjson source's format entra, or replay).
const CloudFile = "entra/signins.jsonl"

// FormatEntra is the format of CloudFile.
const FormatEntra = "entra"

// CloudInfo describes the generated Entra ID sign-ins.
type CloudInfo struct {
	Path   string `json:"path"`   // relative to OutDir
	Format string `json:"format"` // FormatEntra
	Events int    `json:"events"`
}

// graphSignIn is the Graph v1.0 signIn shape (the properties the mapping reads).
type graphSignIn struct {
	ID                    string         `json:"id"`
	CreatedDateTime       string         `json:"createdDateTime"`
	UserDisplayName       string         `json:"userDisplayName"`
	UserPrincipalName     string         `json:"userPrincipalName"`
	UserID                string         `json:"userId"`
	OnPremSID             string         `json:"onPremisesSecurityIdentifier"`
	AppID                 string         `json:"appId"`
	AppDisplayName        string         `json:"appDisplayName"`
	IPAddress             string         `json:"ipAddress"`
	ClientAppUsed         string         `json:"clientAppUsed"`
	CorrelationID         string         `json:"correlationId"`
	ConditionalAccess     string         `json:"conditionalAccessStatus"`
	IsInteractive         bool           `json:"isInteractive"`
	RiskDetail            string         `json:"riskDetail"`
	RiskLevelAggregated   string         `json:"riskLevelAggregated"`
	RiskLevelDuringSignIn string         `json:"riskLevelDuringSignIn"`
	RiskState             string         `json:"riskState"`
	RiskEventTypesV2      []string       `json:"riskEventTypes_v2"`
	Status                graphStatus    `json:"status"`
	Location              graphLocation  `json:"location"`
	DeviceDetail          map[string]any `json:"deviceDetail"`
}

type graphStatus struct {
	ErrorCode     int     `json:"errorCode"`
	FailureReason *string `json:"failureReason"`
}

type graphLocation struct {
	City            string   `json:"city"`
	CountryOrRegion string   `json:"countryOrRegion"`
	GeoCoordinates  graphGeo `json:"geoCoordinates"`
}

type graphGeo struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

var appIDs = map[string]string{
	"Office 365 Exchange Online":   "00000002-0000-0ff1-ce00-000000000000",
	"Microsoft Teams":              "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
	"Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
	"My Apps":                      "2793995e-0a7d-40d7-bd35-6968ba142197",
	"Azure Portal":                 "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
}

// writeCloud writes the scenario's sign-ins to CloudFile.
func writeCloud(dir string, sis []scenario.CloudSignIn) (CloudInfo, error) {
	info := CloudInfo{Path: CloudFile, Format: FormatEntra}
	p := filepath.Join(dir, filepath.FromSlash(CloudFile))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return info, fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	f, err := os.Create(p)
	if err != nil {
		return info, err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, s := range sis {
		g := graphSignIn{
			ID: s.ID, CreatedDateTime: s.Time.UTC().Format(time.RFC3339Nano), UserDisplayName: strings.SplitN(s.UPN, "@", 2)[0],
			UserPrincipalName: s.UPN, UserID: s.ObjectID, OnPremSID: s.OnPremSID, AppID: appIDs[s.App], AppDisplayName: s.App,
			IPAddress: s.IP, ClientAppUsed: s.Client, CorrelationID: s.ID, ConditionalAccess: "success", IsInteractive: true,
			RiskDetail: "none", RiskLevelAggregated: "none", RiskLevelDuringSignIn: "none", RiskState: "none", RiskEventTypesV2: []string{},
			Status:       graphStatus{ErrorCode: s.ErrorCode},
			Location:     graphLocation{City: s.City, CountryOrRegion: s.Country, GeoCoordinates: graphGeo{Latitude: s.Lat, Longitude: s.Lon}},
			DeviceDetail: map[string]any{"browser": "Edge 131.0.0", "operatingSystem": "Windows 11"},
		}
		if s.ErrorCode == 50126 {
			r := "Error validating credentials due to invalid username or password."
			g.Status.FailureReason = &r
			g.ConditionalAccess = "notApplied"
		}
		if err := enc.Encode(g); err != nil {
			f.Close()
			return info, err
		}
		info.Events++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return info, err
	}
	return info, f.Close()
}
