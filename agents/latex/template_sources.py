"""The LaTeX sources of the templates (Jinja2: ``((( value )))``, ``((* block *))``).

Only structure lives here; every printed value is escaped by ``templates.py``.
With pdflatex the templates use T1 + Latin Modern; with xelatex/lualatex, fontspec.
"""

from __future__ import annotations

_PREAMBLE = r"""((* if engine == "pdflatex" *))
\usepackage[T1]{fontenc}
\usepackage{lmodern}
((* else *))
\usepackage{fontspec}
((* endif *))
"""

#: The title page of the article and the report (title, author, date, abstract).
_TITLE_PAGE = r"""\usepackage[margin=2.5cm]{geometry}
\title{((( title )))}
\author{((( author )))}
\date{((* if date is not none *))((( date )))((* else *))\today((* endif *))}
\begin{document}
\maketitle
((* if abstract *))
\begin{abstract}
((( abstract | paragraphs )))
\end{abstract}
((* endif *))
"""

SOURCES = {
    "article": r"""\documentclass[11pt]{article}
"""
    + _PREAMBLE
    + _TITLE_PAGE
    + r"""((( body | paragraphs )))

((* for s in sections *))
\section{((( s.heading )))}
((( s.body | paragraphs )))

((* endfor *))
\end{document}
""",
    "report": r"""\documentclass[11pt]{report}
"""
    + _PREAMBLE
    + _TITLE_PAGE
    + r"""((* if toc *))
\tableofcontents
((* endif *))
((* for c in chapters *))
\chapter{((( c.title )))}
((( c.body | paragraphs )))

((* for s in c.sections *))
\section{((( s.heading )))}
((( s.body | paragraphs )))

((* endfor *))
((* endfor *))
\end{document}
""",
    "letter": r"""\documentclass[11pt]{letter}
"""
    + _PREAMBLE
    + r"""\usepackage[margin=2.5cm]{geometry}
\signature{((( signature if signature else sender_name )))}
\address{((( sender_name )))((* if sender_address *)) \\
((( sender_address | lines )))((* endif *))}
\date{((* if date is not none *))((( date )))((* else *))\today((* endif *))}
\begin{document}
\begin{letter}{((( recipient_name )))((* if recipient_address *)) \\
((( recipient_address | lines )))((* endif *))}
\opening{((( opening )))}

((( body | paragraphs )))

\closing{((( closing )))}
\end{letter}
\end{document}
""",
    "resume": r"""\documentclass[10pt]{article}
"""
    + _PREAMBLE
    + r"""\usepackage[margin=1.8cm]{geometry}
\pagestyle{empty}
\setlength{\parindent}{0pt}
\newcommand{\resumesection}[1]{\par\vspace{10pt}{\large\bfseries #1}\par
  \vspace{2pt}\hrule\vspace{6pt}}
\begin{document}
{\LARGE\bfseries ((( name )))}\par\vspace{4pt}
((( [email, phone, location, website] | ejoin(" \\quad{}\\textbullet\\quad{} ") )))\par
((* if summary *))
\resumesection{Summary}
((( summary | paragraphs )))
((* endif *))
((* if experience *))
\resumesection{Experience}
((* for job in experience *))
\textbf{((( job.title )))}((* if job.company *)), ((( job.company )))((* endif *))
\hfill ((( [job.start, job.end] | ejoin(" -- ") )))\par
((* if job.location *))
{\small\itshape ((( job.location )))}\par
((* endif *))
((* if job.bullets *))
\begin{itemize}
((* for b in job.bullets *))
\item ((( b )))
((* endfor *))
\end{itemize}
((* endif *))
\vspace{4pt}
((* endfor *))
((* endif *))
((* if education *))
\resumesection{Education}
((* for d in education *))
\textbf{((( d.degree )))}((* if d.school *)), ((( d.school )))((* endif *))
\hfill ((( [d.start, d.end] | ejoin(" -- ") )))\par
((* if d.details *))
{\small ((( d.details )))}\par
((* endif *))
\vspace{3pt}
((* endfor *))
((* endif *))
((* if skills *))
\resumesection{Skills}
((( skills | ejoin(", ") )))\par
((* endif *))
\end{document}
""",
    "cv": r"""\documentclass[11pt]{article}
"""
    + _PREAMBLE
    + r"""\usepackage[margin=2.2cm]{geometry}
\setlength{\parindent}{0pt}
\newcommand{\cventry}[2]{\makebox[0.2\textwidth][l]{#1}\parbox[t]{0.78\textwidth}{#2}\par\vspace{5pt}}
\begin{document}
{\huge\bfseries ((( name )))}\par\vspace{2pt}
((* if position *))
{\large ((( position )))}\par
((* endif *))
\vspace{4pt}
{\small ((( [email, phone, address, website] | ejoin(" \\quad{}\\textbullet\\quad{} ") )))}\par
((* for sec in sections *))
\section*{((( sec.title )))}
((* for e in sec.entries *))
\cventry{((( e.when )))}{\textbf{((( e.what )))}
((*- if e.where *)), ((( e.where )))((* endif *))
((*- if e.details *)) \newline {\small ((( e.details )))}((* endif *))}
((* endfor *))
((* endfor *))
((* if publications *))
\section*{Publications}
\begin{enumerate}
((* for p in publications *))
\item ((( p )))
((* endfor *))
\end{enumerate}
((* endif *))
\end{document}
""",
    "beamer": r"""\documentclass{beamer}
"""
    + _PREAMBLE
    + r"""\usetheme{((( theme )))}
\title{((( title )))}
((* if subtitle *))
\subtitle{((( subtitle )))}
((* endif *))
\author{((( author )))}
((* if institute *))
\institute{((( institute )))}
((* endif *))
\date{((* if date is not none *))((( date )))((* else *))\today((* endif *))}
\begin{document}
\begin{frame}
\titlepage
\end{frame}
((* for s in slides *))
\begin{frame}{((( s.title )))}
((( s.text | paragraphs )))
((* if s.bullets *))
\begin{itemize}
((* for b in s.bullets *))
\item ((( b )))
((* endfor *))
\end{itemize}
((* endif *))
\end{frame}
((* endfor *))
\end{document}
""",
}
