"""The contact log (接触記録, issue 15): record a contact on an item or its household, and
returned notices (お知らせの返戻)."""
