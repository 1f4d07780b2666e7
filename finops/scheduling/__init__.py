"""Schedules as pure functions: when a schedule wants its targets running, and when that changes.

No store, no AWS: `expressions` reads the day fields of a period (AWS Instance Scheduler's language),
`timetable` gives the desired state of a schedule at an instant and its transitions over a range, in the
schedule's own time zone.
"""
