package evtx

import "github.com/castellan-itdr/castellan/mappings/windows"

type recordT = windows.Record
