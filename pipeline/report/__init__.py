"""Stage `report`: the "Protokół z badania zadowolenia Klienta". Takes the answers of a period (and of the
period it is compared with); gives a frozen `Report` (`model`: the data model and periods; `build`: the
statistics) and its files: PDF (`pdf`) and XLSX/CSV/JSON (`files`). Gathering the answers and archiving the
files is the run layer's job (`runs.reporting`)."""
