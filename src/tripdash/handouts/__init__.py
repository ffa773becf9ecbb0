"""Hand-outs typeset for print (the day sheet); no textual or rich."""
