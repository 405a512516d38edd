"""Stage `forms`: printing. Takes a `FormLayout` and the `Office`; gives the printable PDF and the frozen
`FormGeometry` of every page (`render`: placement and drawing are one code path, so what the reader expects is
exactly what was printed), and the survey's poster and "Oceń Urząd" banner (`poster`)."""
