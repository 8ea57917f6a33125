"""The dispatcher's console: a board read model, live changes, and the web page that shows them."""
