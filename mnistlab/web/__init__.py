"""The web app: a page to draw, upload or show a digit to the webcam, and the JSON API behind it."""
