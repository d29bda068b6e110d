import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one error shape every endpoint answers with (see HttpErrorFilter). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'limit must not be greater than 500' })
  message: string;

  @ApiPropertyOptional({ description: 'The request field the error is about.', example: 'limit' })
  field?: string;
}
