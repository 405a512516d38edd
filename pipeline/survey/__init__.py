"""Stage `survey`: the survey as an HTML form. Takes a `FormLayout`; gives a `SurveyForm` (questions,
fields, skip hints; a hand-entry variant with "brak odpowiedzi"/"nieważna") and turns submitted fields into
answer rows or errors that name the question (`form`). Storing a response is the run layer's job."""
