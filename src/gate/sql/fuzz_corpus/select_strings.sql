SELECT E'a\nb\'c', $$a;b$$, $tag$ $1 $tag$, N'nat', "Quoted""Id", 0x1F, 1.5e-3, .5 -- comment
 /* nested /* comment */ */