import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one error shape every endpoint answers with (see HttpErrorFilter). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({
    description:
      'A stable snake_case code to branch on: record_not_found, identity_merged, cursor_invalid, invalid_input, ' +
      'unauthenticated, rate_limited, … (README, REST API, Error codes). The message may change; the code does not.',
    example: 'invalid_input',
  })
  code: string;

  @ApiProperty({ example: 'limit must not be greater than 500' })
  message: string;

  @ApiPropertyOptional({ description: 'The request field the error is about.', example: 'limit' })
  field?: string;

  @ApiPropertyOptional({
    description:
      'Box push refusals (401/403: the same value as `code`) and 503s (`database`, `storage_full`): the older name of the cause, kept for tools that read it.',
    example: 'token_mismatch',
  })
  reason?: string;
}
