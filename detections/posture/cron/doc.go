// Package cron parses five-field cron expressions (minute hour
// day-of-month month day-of-week) and computes their next run time.
//
// Supported: "*", single values, ranges "a-b", steps "*/n" and "a-b/n",
// lists "a,b-c", month names (jan–dec) and day names (sun–sat), day-of-week
// 7 as Sunday, and the macros @yearly (@annually), @monthly, @weekly,
// @daily (@midnight) and @hourly. As in Vixie cron, when both day-of-month
// and day-of-week are restricted a day matches if either does.
package cron
