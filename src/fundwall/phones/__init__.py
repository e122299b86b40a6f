"""Phone real-name verification (手机实名验证): the telecom registry adapter (`registry`, with
the local registry `local` and an operator's API `http`), the checks of the phones members
bind to their customers (`checks`), and the investigations of phones shared, persons with
many phones and recycled numbers still bound (`investigations`). docs/phones.md."""
