"""Pickup days and slots (受取予約日・予約枠, issue 15): the list, opening a day, a day's slots,
copying, and the CSV upload (the same report as ``tracker slots import``)."""
