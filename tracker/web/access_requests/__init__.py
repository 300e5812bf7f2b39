"""Access requests (開示請求, issue 16 item 3): records officers find a person and export what
is held about them; auditors read the requests."""
